//! `app seed`: writes deterministic demo data into the database named by `AION_DB_PATH`.
//!
//! ```text
//! app seed --stories 100000 [--nodes-per-story 10] [--seed 42] [--covers 0]
//! ```
//! `--covers N` gives the N most recently updated stories a generated cover (default none:
//! their variants are encoded by the server's task queue once it runs, which would weigh on
//! a benchmark started right after).
//! The same arguments always produce the same stories (ids included). Node text is indexed
//! for search before the command returns.

use app::backend::{AppConfig, demo, library::search_index, schema};
use server::store::{Store, StoreConfig};

const USAGE: &str = "usage: app seed --stories N [--nodes-per-story N] [--seed N] [--covers N]  (database: AION_DB_PATH)";

/// Runs the command; returns the process exit code.
pub fn main(args: &[String]) -> i32 {
    let spec = match parse(args) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return 2;
        }
    };
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("aion: {e}");
            return 2;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the operating system can start a tokio runtime");
    runtime.block_on(async move {
        let started = std::time::Instant::now();
        let result = async {
            let store = Store::open(StoreConfig::new(&config.db_path)).await?;
            store.migrate(schema::MIGRATIONS).await?;
            let report = demo::seed(&store, spec).await.map_err(|e| e.to_string())?;
            demo::seed_covers(&store, spec.covers)
                .await
                .map_err(|e| e.to_string())?;
            let indexed = search_index::drain(&store).await?;
            store.analyze().await?;
            Ok::<_, Box<dyn std::error::Error>>((report, indexed))
        }
        .await;
        match result {
            Ok((report, indexed)) => {
                println!(
                    "seeded {} stories and {} nodes into {} (search index: {indexed} nodes) in {:.1?}",
                    report.stories,
                    report.nodes,
                    config.db_path.display(),
                    started.elapsed()
                );
                0
            }
            Err(e) => {
                eprintln!("aion seed: {e}");
                1
            }
        }
    })
}

fn parse(args: &[String]) -> Result<demo::DemoSpec, String> {
    let mut spec = demo::DemoSpec {
        covers: 0,
        ..demo::DemoSpec::default()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag} must be a whole number, not {value:?}"))?;
        match flag.as_str() {
            "--stories" => spec.stories = n as usize,
            "--nodes-per-story" => spec.nodes_per_story = n as usize,
            "--seed" => spec.seed = n,
            "--covers" => spec.covers = n as usize,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(spec)
}
