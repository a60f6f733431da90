//! `app admin create HANDLE`: makes the first admin (or promotes a writer) from the command
//! line, never from a default password. The new account's password is read from
//! `AION_ADMIN_PASSWORD` or, if that is unset, from the first line of standard input, so it
//! never appears in the process list or the shell history.
//!
//! ```text
//! printf '%s\n' "$PASSWORD" | app admin create ada     (database: AION_DB_PATH)
//! ```

use std::io::BufRead;

use app::backend::{
    AppConfig, identity::account::make_admin, identity::password::Passwords, schema,
};
use server::store::{Store, StoreConfig};

const USAGE: &str = "usage: app admin create HANDLE   (password: AION_ADMIN_PASSWORD or the first line of stdin; database: AION_DB_PATH)";

/// Runs the command; returns the process exit code.
pub fn main(args: &[String]) -> i32 {
    let [verb, handle] = args else {
        eprintln!("{USAGE}");
        return 2;
    };
    if verb != "create" {
        eprintln!("{USAGE}");
        return 2;
    }
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("aion: {e}");
            return 2;
        }
    };
    let password = match std::env::var("AION_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_err() {
                eprintln!("aion: could not read the password from standard input");
                return 2;
            }
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the operating system can start a tokio runtime");
    runtime.block_on(async move {
        let result = async {
            let store = Store::open(StoreConfig::new(&config.db_path))
                .await
                .map_err(|e| e.to_string())?;
            store
                .migrate(schema::MIGRATIONS)
                .await
                .map_err(|e| e.to_string())?;
            make_admin(&store, &Passwords::default(), handle, &password)
                .await
                .map_err(|e| e.message().to_owned())
        }
        .await;
        match result {
            Ok((account, true)) => {
                println!(
                    "created admin {} in {}",
                    account.handle,
                    config.db_path.display()
                );
                0
            }
            Ok((account, false)) => {
                println!("{} is an admin now; its sessions ended", account.handle);
                0
            }
            Err(e) => {
                eprintln!("aion: {e}");
                1
            }
        }
    })
}
