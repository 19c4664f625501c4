//! Databases for the conformance suite, each private to one test.
//!
//! SQLite: a file in a fresh temporary directory. PostgreSQL: a fresh schema
//! in the database of `IAMGATE_TEST_POSTGRES_URL`, selected through the
//! store URL's `options[search_path]`, and dropped when the test ends (even
//! when it fails), because tests run in parallel and CI reuses the database.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use iamgate_store::Store;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// Instantiates each case of the test file's `cases` module once for
/// SQLite and once for PostgreSQL (skipped, saying so, when unset).
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::harness::run(crate::Db::sqlite(), crate::cases::$case).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::Db::postgres(stringify!($case)).await else {
                        return;
                    };
                    crate::harness::run(db, crate::cases::$case).await;
                }
            )*
        }
    };
}

pub const POSTGRES_URL_ENV: &str = "IAMGATE_TEST_POSTGRES_URL";

pub struct Db {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    TempDir(#[allow(dead_code)] tempfile::TempDir),
    DropSchema { admin_url: String, schema: String },
}

impl Db {
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iamgate.db");
        Db {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::TempDir(dir),
        }
    }

    /// `None` (after saying so) when no PostgreSQL is configured.
    pub async fn postgres(case: &str) -> Option<Db> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
            eprintln!("SKIP: {POSTGRES_URL_ENV} not set");
            return None;
        };
        let schema = unique_schema(case);
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        Some(Db {
            url: format!("{admin_url}{separator}options[search_path]={schema}"),
            cleanup: Cleanup::DropSchema { admin_url, schema },
        })
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }

    async fn clean_up(&self) {
        if let Cleanup::DropSchema { admin_url, schema } = &self.cleanup {
            let mut admin = PgConnection::connect(admin_url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
    }
}

/// Runs `case` on `db`, then cleans up whether the case passed or panicked.
pub async fn run<F, Fut>(db: Db, case: F)
where
    F: FnOnce(Arc<Db>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = Arc::new(db);
    let outcome = tokio::spawn(case(Arc::clone(&db))).await;
    db.clean_up().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Unique across parallel tests and repeated CI runs; within PostgreSQL's
/// 63-byte identifier limit.
fn unique_schema(case: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let case: String = case.chars().take(24).collect();
    format!(
        "iamgate_test_{case}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
