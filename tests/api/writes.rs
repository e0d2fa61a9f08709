//! Writes at once through `Db::write`: on SQLite they are committed together by the writer thread, each in
//! a savepoint of a shared transaction; on PostgreSQL each in a transaction of its own. Either way a write
//! that fails leaves nothing behind and takes no other write with it, and every write told `Ok` is there.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::helpers::*;

diesel::table! {
    scratch_writes (n) {
        n -> Integer,
    }
}

#[tokio::test]
async fn writes_at_once_keep_each_success_and_undo_each_failure() {
    let app = TestApp::spawn().await;
    let settings = app.settings.database.clone();
    let db = tokio::task::spawn_blocking(move || {
        let db = cordee::db::Db::connect(&settings).unwrap();
        db.write_connection()
            .unwrap()
            .batch_execute("CREATE TABLE scratch_writes (n INTEGER PRIMARY KEY)")
            .unwrap();
        db
    })
    .await
    .unwrap();

    // 300 writes sent at once: every third fails after its insert; write 7 fails on a statement of its own
    // (its row inserted twice) after its first insert succeeded.
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..300i32 {
        let db = db.clone();
        writes.spawn(async move {
            let result = db
                .write(move |conn| {
                    conn.batch_execute(&format!("INSERT INTO scratch_writes (n) VALUES ({n})"))?;
                    if n == 7 {
                        conn.batch_execute("INSERT INTO scratch_writes (n) VALUES (7)")?;
                    }
                    if n % 3 == 0 {
                        return Err(cordee::error::Error::NotFound);
                    }
                    Ok(n)
                })
                .await;
            (n, result.is_ok())
        });
    }
    let mut told_ok = Vec::new();
    while let Some(joined) = writes.join_next().await {
        let (n, ok) = joined.unwrap();
        if ok {
            told_ok.push(n);
        }
    }
    told_ok.sort_unstable();

    let written = tokio::task::spawn_blocking(move || {
        let mut conn = db.write_connection().unwrap();
        scratch_writes::table
            .select(scratch_writes::n)
            .order(scratch_writes::n.asc())
            .load::<i32>(&mut *conn)
            .unwrap()
    })
    .await
    .unwrap();
    let expected: Vec<i32> = (0..300).filter(|n| n % 3 != 0 && *n != 7).collect();
    assert_eq!(told_ok, expected, "the writes told Ok");
    assert_eq!(written, expected, "what the database holds");
}
