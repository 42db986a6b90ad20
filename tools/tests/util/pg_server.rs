//! A throw-away PostgreSQL cluster for tests: `initdb` in a temporary directory, the server
//! listening only on a Unix socket in that directory, stopped (fast shutdown) and removed on
//! drop. As root, initdb and postgres run as the unprivileged `postgres` user (setpriv).
#![allow(
    dead_code,
    reason = "each test crate that includes this file uses part of it"
)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::servers::{find_binary, signal, skip, wait_bounded};

/// True when this process runs as root (the owner of `/proc/self` is the effective uid).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command that runs `program` as the unprivileged `postgres` user when this process is
/// root (initdb and postgres refuse to run as root); `setpriv` execs, so the child's pid is
/// the server's.
fn as_db_user(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--clear-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL cluster in a temporary directory, stopped (fast shutdown) and removed on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    server: Child,
}

impl Postgres {
    /// Creates and starts a cluster; `None` (skipped) when PostgreSQL is not installed.
    pub fn start() -> Option<Self> {
        let mut extra: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path().join("bin"))
                    .collect()
            })
            .unwrap_or_default();
        // Newest version first.
        extra.sort();
        extra.reverse();
        let Some(initdb) = find_binary("initdb", &extra) else {
            return skip("PostgreSQL server binaries (initdb) not found");
        };
        let postgres = initdb.with_file_name("postgres");
        if running_as_root() && find_binary("setpriv", &[]).is_none() {
            return skip("running as root and setpriv (util-linux) not found");
        }
        let dir = tempfile::tempdir().unwrap();
        if running_as_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(
                ok.success(),
                "chown of the cluster directory to postgres failed"
            );
        }
        let data = dir.path().join("data");
        let out = as_db_user(&initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let server = as_db_user(&postgres)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args([
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=20",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let pg = Self { dir, server };
        pg.wait_ready();
        Some(pg)
    }

    /// The connection string of database `db` as the superuser (trust auth on the socket).
    pub fn url(&self, db: &str) -> String {
        format!(
            "host={} port=5432 user=postgres dbname={db}",
            self.dir.path().display()
        )
    }

    /// A client connected to database `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            if postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT: fast shutdown (rolls back open transactions, closes connections).
        signal(self.server.id(), "INT");
        let _ = wait_bounded(&mut self.server, Duration::from_secs(20));
    }
}
