//! Bringing a database up to date: the migrations, then what they leave to Rust because SQL cannot do it
//! portably (the ranking tallies of calls reviewed before the tallies existed, whose weighted scores are
//! computed by the domain). Every entry point that opens a database for work calls [`migrate`]: the server's
//! start-up, `cordee migrate`, the CLI's other commands and the bench's seeder.

use crate::db::{write_tx, Db};
use crate::error::Error;
use crate::store::ranking_tallies;

/// Applies the pending migrations, then builds the tallies the migrations listed as pending, each call in
/// its own transaction (a crash midway leaves the rest listed for the next start); returns the names of the
/// migrations applied.
pub fn migrate(db: &Db) -> anyhow::Result<Vec<String>> {
    let applied = db.migrate()?;
    let mut conn = db.write_connection()?;
    build_pending_tallies(&mut conn)
        .map_err(|e| anyhow::anyhow!("building the ranking tallies: {e}"))?;
    Ok(applied)
}

/// Builds the tallies of every pending call and forgets it; returns how many calls. One empty read when
/// there is nothing to do.
pub fn build_pending_tallies(conn: &mut crate::db::DbConn) -> Result<usize, Error> {
    let pending = ranking_tallies::pending_calls(conn)?;
    for call_id in &pending {
        write_tx(conn, |conn| -> Result<(), Error> {
            ranking_tallies::rebuild_call(conn, *call_id)?;
            ranking_tallies::forget_pending(conn, *call_id)?;
            Ok(())
        })?;
    }
    Ok(pending.len())
}
