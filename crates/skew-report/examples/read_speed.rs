//! How fast a drift log is read: the generic serde reader (`skew_driftlog::parse_log`,
//! every column into a `DriftRow`) against the report's column-selective reader
//! (`skew_report::read::parse_bytes` over `skew_driftlog::scan`), on one and two threads.
//!
//! ```text
//! cargo run --release -p skew-report --example read_speed -- /tmp/skew-bench/drift-1000000.csv
//! ```

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_speed LOG");
        std::process::exit(64);
    };
    let t = Instant::now();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("read_speed: {path}: {e}");
            std::process::exit(66);
        }
    };
    println!(
        "read the file ({} MB): {:.3} s",
        bytes.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    match skew_driftlog::parse_log(&path, &bytes) {
        Ok(r) => println!(
            "serde reader (parse_log, all columns): {:.3} s, {} rows",
            t.elapsed().as_secs_f64(),
            r.rows.len()
        ),
        Err(e) => println!("serde reader: {e}"),
    }
    for threads in [1, 2] {
        let t = Instant::now();
        match skew_report::read::parse_bytes(
            &path,
            &bytes,
            &skew_report::Filter::default(),
            threads,
        ) {
            Ok((_, s)) => println!(
                "report reader ({threads} thread(s), columns drawn): {:.3} s, {} rows",
                t.elapsed().as_secs_f64(),
                s.rows
            ),
            Err(e) => println!("report reader: {e}"),
        }
    }
}
