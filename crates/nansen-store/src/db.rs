//! One small interface over SQLite and PostgreSQL: statements written once with `?`
//! placeholders, values of five kinds, explicit transactions.

use std::sync::{Condvar, Mutex};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// A result row.
#[derive(Clone, Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Value::Int(v) => *v,
            Value::Real(v) => *v as i64,
            Value::Text(t) => t.parse().unwrap_or(0),
            _ => 0,
        }
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match &self.0[i] {
            Value::Null => None,
            _ => Some(self.int(i)),
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match &self.0[i] {
            Value::Text(t) => Some(t.clone()),
            Value::Int(v) => Some(v.to_string()),
            Value::Real(v) => Some(v.to_string()),
            _ => None,
        }
    }
    pub fn blob(&self, i: usize) -> Vec<u8> {
        match &self.0[i] {
            Value::Blob(b) => b.clone(),
            Value::Text(t) => t.as_bytes().to_vec(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
}

impl DbError {
    /// A unique or primary-key constraint refused the write.
    pub fn is_conflict(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            DbError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Value::Null => Ok(postgres::types::IsNull::Yes),
            Value::Int(v) if *ty == Type::INT4 => (*v as i32).to_sql(ty, out),
            Value::Int(v) if *ty == Type::FLOAT8 => (*v as f64).to_sql(ty, out),
            Value::Int(v) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                v.to_string().to_sql(ty, out)
            }
            Value::Int(v) => v.to_sql(ty, out),
            Value::Real(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Blob(v) => v.to_sql(ty, out),
        }
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

/// `?` placeholders as PostgreSQL's `$1, $2, ...` (no `?` appears inside our literals).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Connection::Sqlite(c) => c.execute_batch(sql)?,
            Connection::Postgres(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }

    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        match self {
            Connection::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter().map(sqlite_value)))? as u64)
            }
            Connection::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|v| v as _).collect();
                Ok(c.execute(numbered(sql).as_str(), &p)?)
            }
        }
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match self {
            Connection::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st.query_map(
                    rusqlite::params_from_iter(params.iter().map(sqlite_value)),
                    |r| {
                        (0..n)
                            .map(|i| {
                                Ok(match r.get_ref(i)? {
                                    rusqlite::types::ValueRef::Null => Value::Null,
                                    rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                                    rusqlite::types::ValueRef::Real(v) => Value::Real(v),
                                    rusqlite::types::ValueRef::Text(t) => {
                                        Value::Text(String::from_utf8_lossy(t).into_owned())
                                    }
                                    rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                                })
                            })
                            .collect::<Result<Vec<_>, rusqlite::Error>>()
                            .map(Row)
                    },
                )?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            }
            Connection::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|v| v as _).collect();
                let rows = c.query(numbered(sql).as_str(), &p)?;
                Ok(rows.iter().map(pg_row).collect())
            }
        }
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Real(r) => rusqlite::types::Value::Real(*r),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Value::Blob(b) => rusqlite::types::Value::Blob(b.clone()),
    }
}

fn pg_row(r: &postgres::Row) -> Row {
    use postgres::types::Type;
    Row(r
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = c.type_();
            let v = if *t == Type::INT8 {
                r.get::<_, Option<i64>>(i).map(Value::Int)
            } else if *t == Type::INT4 {
                r.get::<_, Option<i32>>(i).map(|v| Value::Int(v as i64))
            } else if *t == Type::INT2 {
                r.get::<_, Option<i16>>(i).map(|v| Value::Int(v as i64))
            } else if *t == Type::FLOAT8 {
                r.get::<_, Option<f64>>(i).map(Value::Real)
            } else if *t == Type::BOOL {
                r.get::<_, Option<bool>>(i).map(|v| Value::Int(v as i64))
            } else if *t == Type::BYTEA {
                r.get::<_, Option<Vec<u8>>>(i).map(Value::Blob)
            } else {
                r.try_get::<_, Option<String>>(i)
                    .ok()
                    .flatten()
                    .map(Value::Text)
            };
            v.unwrap_or(Value::Null)
        })
        .collect())
}

/// A handful of open connections, handed out one at a time.
pub struct Pool {
    open: Box<dyn Fn() -> Result<Connection, DbError> + Send + Sync>,
    idle: Mutex<Vec<Connection>>,
    count: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

pub struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }
}
impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(c);
            }
            self.pool.freed.notify_one();
        }
    }
}

impl Pool {
    pub fn new(
        max: usize,
        open: Box<dyn Fn() -> Result<Connection, DbError> + Send + Sync>,
    ) -> Pool {
        Pool {
            open,
            idle: Mutex::new(Vec::new()),
            count: Mutex::new(0),
            freed: Condvar::new(),
            max,
        }
    }

    pub fn get(&self) -> Result<Pooled<'_>, DbError> {
        loop {
            if let Some(c) = self.idle.lock().map(|mut i| i.pop()).ok().flatten() {
                return Ok(Pooled {
                    pool: self,
                    conn: Some(c),
                });
            }
            let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
            if *count < self.max {
                *count += 1;
                drop(count);
                match (self.open)() {
                    Ok(c) => {
                        return Ok(Pooled {
                            pool: self,
                            conn: Some(c),
                        })
                    }
                    Err(e) => {
                        *self.count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                        return Err(e);
                    }
                }
            }
            let _unused = self
                .freed
                .wait_timeout(count, std::time::Duration::from_millis(50));
        }
    }
}
