//! For tests: the same store on SQLite and on PostgreSQL.
//!
//! PostgreSQL is reached at `NANSEN_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each store gets a database of its own,
//! dropped when the store is. Under CI (`CI` set) a missing server fails the test; locally
//! the PostgreSQL half is skipped, and says so.

use crate::Store;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct TestStore {
    pub name: &'static str,
    pub store: Store,
    pub database_url: Option<String>,
    pub dir: tempfile::TempDir,
    _db: Option<PgDatabase>,
}

/// A PostgreSQL database of a test's own, dropped with this value.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&admin_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub fn admin_url() -> String {
    std::env::var("NANSEN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty PostgreSQL database; `None` (with a note on stderr) when no server answers locally.
pub fn fresh_postgres() -> Option<PgDatabase> {
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = admin_url();
    let mut c = match postgres::Client::connect(&admin, postgres::NoTls) {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping PostgreSQL: no server answers at {admin} ({e})");
            return None;
        }
        Err(e) => panic!("PostgreSQL must answer at {admin} under CI: {e}"),
    };
    let db = format!(
        "nansen_t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos()
    );
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create test database");
    let url = match admin.rfind('/') {
        Some(i) => format!("{}/{db}", &admin[..i]),
        None => format!("{admin}/{db}"),
    };
    Some(PgDatabase { url, name: db })
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// One empty store per database this machine can run.
pub fn stores() -> Vec<TestStore> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), None).expect("open SQLite store");
    out.push(TestStore {
        name: "sqlite",
        store,
        database_url: None,
        dir,
        _db: None,
    });
    if let Some(db) = fresh_postgres() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), Some(&db.url)).expect("open PostgreSQL store");
        out.push(TestStore {
            name: "postgres",
            store,
            database_url: Some(db.url.clone()),
            dir,
            _db: Some(db),
        });
    }
    out
}
