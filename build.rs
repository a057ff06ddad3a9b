//! Names the commit the binary is built from, for `dingclaw --version` (a build outside a git
//! checkout, from a source tarball, says "unknown").

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=DINGCLAW_COMMIT={commit}");
    // A new commit moves HEAD or the branch it points to; a changed working tree is not
    // tracked (that would rebuild the binary at every `git add`).
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
