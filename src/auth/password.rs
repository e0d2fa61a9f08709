//! Argon2id password hashing with OWASP's parameters, off the async worker threads and with a cap on how
//! many hashes run at once (each takes 19 MiB and a core for tens of milliseconds).

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn argon2() -> Argon2<'static> {
    // The constants are valid parameters; `Params::new` only fails on out-of-range values.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A job for the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on a few threads of their own (as many as hashes may run at once), so that
/// argon2's 19 MiB per hash is only ever held by those threads, and never starves the database work; cheap to
/// clone. The threads end when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordHasherPool {
    jobs: tokio::sync::mpsc::Sender<Job>,
    /// A hash of a random password, verified against when the account does not exist, so that a wrong
    /// email takes as long as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasherPool {
    /// A hasher running `max_concurrent` hashes at once (0: one per core).
    pub fn new(max_concurrent: usize) -> anyhow::Result<PasswordHasherPool> {
        let max = match max_concurrent {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let random = SaltString::generate(&mut OsRng);
        let dummy_hash = hash_now(random.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Waiting requests queue in the channel (bounded: a flood of logins waits, it does not pile up memory).
        let (jobs, queue) = tokio::sync::mpsc::channel::<Job>(1024);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..max {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(mut receiver) => receiver.blocking_recv(),
                            Err(_) => return,
                        };
                        match job {
                            Some(job) => job(),
                            None => return,
                        }
                    }
                })?;
        }
        Ok(PasswordHasherPool {
            jobs,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Runs `f` on a hashing thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (done, result) = tokio::sync::oneshot::channel();
        // Waits (as a task) only when 1,024 hashes are already queued.
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(f());
            }))
            .await
            .map_err(|_| {
                Error::Internal(anyhow::anyhow!("the password hashing threads stopped"))
            })?;
        result
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("a password hashing job was lost")))
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: SecretString) -> Result<String, Error> {
        self.run(move || hash_now(password.expose_secret())).await?
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) a dummy hash is checked and the
    /// answer is always false.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<String>,
    ) -> Result<bool, Error> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let matches = self
            .run(move || verify_now(password.expose_secret(), &hash))
            .await??;
        Ok(known && matches)
    }
}

/// Gives the calling thread a lower scheduling priority (nice 10), so that when hashes and requests compete
/// for the cores the requests go first and the logins wait instead: a login takes a little longer, every
/// other request keeps its latency. Linux only (where the priority is per thread); elsewhere nothing changes.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority only read or change this thread's own scheduling attributes.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 10);
    }
}

/// Hashes on the current thread: for start-up and the CLI only.
pub fn hash_now(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

fn verify_now(password: &str, hash: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored password hash is malformed: {e}")))?;
    Ok(argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_now("correct horse battery staple").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now("correct horse battery staple", &hash).unwrap());
        assert!(!verify_now("correct horse battery stapl", &hash).unwrap());
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let ok = pool
            .verify(SecretString::from("anything at all"), None)
            .await
            .unwrap();
        assert!(!ok);
    }
}
