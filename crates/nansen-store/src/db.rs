//! One small interface over SQLite and PostgreSQL: statements written once with `?`
//! placeholders, values of five kinds, explicit transactions.

use nansen_model::Timestamp;
use std::sync::{Arc, Condvar, Mutex};

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
/// A time is written at one width, so the database compares times as text in their order.
impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Value {
        Value::Text(t.to_string())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// A result row: its values read by column name, each as the type its reader expects. A
/// name the statement does not give, or a value of another type, is an error naming the
/// column, never a zero or an empty string standing in for it.
#[derive(Clone, Debug)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// A type a column can be read as.
pub trait Column: Sized {
    /// What the reader expected, for the error when the value is something else.
    const WANTED: &'static str;
    fn from_value(v: &Value) -> Option<Self>;
}

impl Column for i64 {
    const WANTED: &'static str = "an integer";
    fn from_value(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl Column for bool {
    const WANTED: &'static str = "a flag (0 or 1)";
    fn from_value(v: &Value) -> Option<bool> {
        match v {
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }
}

impl Column for String {
    const WANTED: &'static str = "text";
    fn from_value(v: &Value) -> Option<String> {
        match v {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl Column for Vec<u8> {
    const WANTED: &'static str = "bytes";
    fn from_value(v: &Value) -> Option<Vec<u8>> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl Column for Timestamp {
    const WANTED: &'static str = "a time (RFC 3339)";
    fn from_value(v: &Value) -> Option<Timestamp> {
        match v {
            Value::Text(t) => t.parse().ok(),
            _ => None,
        }
    }
}

impl<T: Column> Column for Option<T> {
    const WANTED: &'static str = T::WANTED;
    fn from_value(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real number",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

impl Row {
    /// The value of the column `name`, as a `T`.
    pub fn get<T: Column>(&self, name: &str) -> Result<T, DbError> {
        let column = |problem: String| DbError::Column {
            column: name.to_string(),
            problem,
        };
        let mut at = self.names.iter().enumerate().filter(|(_, n)| *n == name);
        let i = match (at.next(), at.next()) {
            (Some((i, _)), None) => i,
            (None, _) => {
                return Err(column(format!(
                    "the statement gives no such column (it gives {})",
                    self.names.join(", ")
                )))
            }
            (Some(_), Some(_)) => {
                return Err(column(
                    "the statement gives two columns of that name".into(),
                ))
            }
        };
        let v = &self.values[i];
        T::from_value(v).ok_or_else(|| {
            column(format!(
                "holds {} where {} was expected",
                v.kind(),
                T::WANTED
            ))
        })
    }

    /// The column `name` read as one word of a closed list (a sharing level, a role, a
    /// status): a word the list does not hold is an error naming the column and the list.
    pub fn word<T: std::str::FromStr<Err = String>>(&self, name: &str) -> Result<T, DbError> {
        self.get::<String>(name)?
            .parse()
            .map_err(|problem| DbError::Column {
                column: name.to_string(),
                problem,
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// What a statement gave does not match what its reader expects: a mistake in the
    /// store's code or schema, reported rather than read as zero.
    #[error("column {column}: {problem}")]
    Column { column: String, problem: String },
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
    Postgres(Box<Pg>),
}

/// A PostgreSQL session with the statements it prepared: a statement run again costs one
/// round trip instead of two (prepare, then run), as SQLite's statement cache does for it.
pub struct Pg {
    client: postgres::Client,
    prepared: std::collections::HashMap<String, postgres::Statement>,
}

/// Most statements a session keeps prepared; past it they are all let go, so statements
/// built with lists of varying length cannot grow a session without bound.
const MOST_PREPARED: usize = 512;

impl Pg {
    pub fn new(client: postgres::Client) -> Box<Pg> {
        Box::new(Pg {
            client,
            prepared: Default::default(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        if let Some(st) = self.prepared.get(sql) {
            return Ok(st.clone());
        }
        if self.prepared.len() >= MOST_PREPARED {
            self.prepared.clear();
        }
        let st = self.client.prepare(&numbered(sql))?;
        self.prepared.insert(sql.to_string(), st.clone());
        Ok(st)
    }
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
            Connection::Postgres(c) => {
                // A change of the schema may change what a prepared statement answers.
                c.prepared.clear();
                c.client.batch_execute(sql)?
            }
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
                let st = c.statement(sql)?;
                Ok(c.client.execute(&st, &p)?)
            }
        }
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match self {
            Connection::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let names: Arc<[String]> =
                    st.column_names().into_iter().map(String::from).collect();
                let n = names.len();
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
                    },
                )?;
                rows.map(|values| {
                    Ok(Row {
                        names: names.clone(),
                        values: values?,
                    })
                })
                .collect()
            }
            Connection::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|v| v as _).collect();
                let st = c.statement(sql)?;
                let rows = c.client.query(&st, &p)?;
                let Some(first) = rows.first() else {
                    return Ok(Vec::new());
                };
                let names: Arc<[String]> = first
                    .columns()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect();
                rows.iter().map(|r| pg_row(r, &names)).collect()
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

/// A PostgreSQL row as values of the five kinds; a column of a type the store never writes
/// is an error naming it, not a NULL.
fn pg_row(r: &postgres::Row, names: &Arc<[String]>) -> Result<Row, DbError> {
    use postgres::types::Type;
    let values = r
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = c.type_();
            let v = if *t == Type::INT8 {
                r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
            } else if *t == Type::INT4 {
                r.try_get::<_, Option<i32>>(i)?
                    .map(|v| Value::Int(v as i64))
            } else if *t == Type::INT2 {
                r.try_get::<_, Option<i16>>(i)?
                    .map(|v| Value::Int(v as i64))
            } else if *t == Type::FLOAT8 {
                r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
            } else if *t == Type::BOOL {
                r.try_get::<_, Option<bool>>(i)?
                    .map(|v| Value::Int(v as i64))
            } else if *t == Type::BYTEA {
                r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
            } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(t) {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            } else {
                return Err(DbError::Column {
                    column: c.name().to_string(),
                    problem: format!("has the PostgreSQL type {t}, which the store does not read"),
                });
            };
            Ok(v.unwrap_or(Value::Null))
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Row {
        names: names.clone(),
        values,
    })
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
