//! A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, started with
//! `pg_ctl` on 127.0.0.1 and a free port, trust authentication, stopped (and its folder
//! removed) when dropped. Run as the `postgres` user when the tests run as root, since
//! PostgreSQL refuses to run as root.
//!
//! Needs PostgreSQL's server programs: on Debian `apt-get install postgresql` (dingclaw's
//! `.ci/run` does); they are looked for on `PATH`, then in `/usr/lib/postgresql/*/bin`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running server.
pub struct TestPostgres {
    /// The data folder and the socket folder live here.
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    databases: AtomicU32,
}

/// Why a test server could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TestPostgresError {
    /// PostgreSQL's server programs are not installed.
    #[error(
        "PostgreSQL's initdb and pg_ctl were not found (apt-get install postgresql; .ci/run does)"
    )]
    NotInstalled,
    /// A step failed; its output says why.
    #[error("{step} failed: {output}")]
    Failed {
        /// `initdb`, `pg_ctl start`, `createdb`...
        step: &'static str,
        /// What it printed.
        output: String,
    },
}

/// `program` beside `initdb`, else on `PATH`, else in `/usr/lib/postgresql/*/bin` (Debian
/// puts only some of them on `PATH`).
fn find_program(bin: &Path, program: &str) -> PathBuf {
    let beside = bin.join(program);
    if beside.exists() {
        return beside;
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).find(|d| d.join(program).exists()));
    let debian = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        let mut found: Vec<PathBuf> = d
            .filter_map(|e| Some(e.ok()?.path().join("bin").join(program)))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    });
    on_path
        .map(|d| d.join(program))
        .or(debian)
        .unwrap_or(beside)
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `program args...`, as the `postgres` user when this process is root.
fn run(program: &Path, args: &[&str]) -> std::io::Result<Output> {
    if running_as_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    }
}

fn check(step: &'static str, out: std::io::Result<Output>) -> Result<(), TestPostgresError> {
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(TestPostgresError::Failed {
            step,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        }),
        Err(e) => Err(TestPostgresError::Failed {
            step,
            output: e.to_string(),
        }),
    }
}

/// A CA, and a server certificate for 127.0.0.1 it signed (P-256 keys: quick to make).
fn make_certificates(dir: &Path) -> Result<(), TestPostgresError> {
    let openssl = |step: &'static str, args: &[&str]| {
        check(
            step,
            Command::new("openssl").args(args).current_dir(dir).output(),
        )
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=dingclaw test CA",
    ]);
    openssl("openssl: the CA", &ca)?;
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl("openssl: the server's key", &csr)?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .map_err(|e| TestPostgresError::Failed {
        step: "write server.ext",
        output: e.to_string(),
    })?;
    openssl(
        "openssl: the server's certificate",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    )?;
    // PostgreSQL refuses a key others can read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| TestPostgresError::Failed {
        step: "chmod server.key",
        output: e.to_string(),
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

impl TestPostgres {
    /// Creates and starts a server; it is stopped when dropped.
    pub fn start() -> Result<TestPostgres, TestPostgresError> {
        Self::start_with(false)
    }

    /// A server that also takes TLS connections, with a certificate for 127.0.0.1 issued by
    /// a CA made for it (`ca_file`). Needs `openssl`, which Debian's postgresql brings.
    pub fn start_with_tls() -> Result<TestPostgres, TestPostgresError> {
        Self::start_with(true)
    }

    /// The CA certificate (PEM) of a `start_with_tls` server.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn start_with(tls: bool) -> Result<TestPostgres, TestPostgresError> {
        let bin = find_bin().ok_or(TestPostgresError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("dingclaw-pg")
            .tempdir()
            .map_err(|e| TestPostgresError::Failed {
                step: "mkdtemp",
                output: e.to_string(),
            })?;
        if tls {
            make_certificates(dir.path())?;
        }
        if running_as_root() {
            check(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path())
                    .output(),
            )?;
        }
        let data = dir.path().join("data");
        let data_s = data.display().to_string();
        check(
            "initdb",
            run(
                &bin.join("initdb"),
                &[
                    "-D",
                    &data_s,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
            ),
        )?;
        let port = free_port();
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            dir.path().display()
        );
        if tls {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.path().display()
            ));
        }
        let log = dir.path().join("server.log").display().to_string();
        check(
            "pg_ctl start",
            run(
                &bin.join("pg_ctl"),
                &[
                    "-D", &data_s, "-o", &options, "-l", &log, "-w", "-t", "30", "start",
                ],
            ),
        )?;
        let server = TestPostgres {
            dir,
            bin,
            port,
            databases: AtomicU32::new(0),
        };
        Ok(server)
    }

    /// A new, empty database, and its URL.
    pub fn database(&self) -> Result<String, TestPostgresError> {
        let name = format!("t{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let port = self.port.to_string();
        let start = Instant::now();
        loop {
            let out = run(
                &find_program(&self.bin, "createdb"),
                &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name],
            );
            match check("createdb", out) {
                Ok(()) => break,
                Err(e) if start.elapsed() > Duration::from_secs(10) => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl TestPostgres {
    /// Stops the server now and removes its files (dropping it does too); for a server
    /// kept in a `static`.
    pub fn stop(&self) {
        let data = self.dir.path().join("data").display().to_string();
        let _ = run(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}
