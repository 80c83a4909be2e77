//! `sqlx::migrate!` embeds the SQL files at compile time but, on stable Rust, cannot tell cargo
//! to rebuild when a file is added: this does.

fn main() {
    println!("cargo:rerun-if-changed=postgres");
    println!("cargo:rerun-if-changed=sqlite");
}
