//! `cvproxy-load`: load and latency for Postern's cvproxy workflow.
//! See `postern_bench::cvproxy` for what each mode does; `--help` for options.

use std::process::ExitCode;

use postern_bench::cvproxy::{self, args::Args, args::Mode};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{}", cvproxy::args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cvproxy-load: {e:#} (see --help)");
            return ExitCode::from(2);
        }
    };
    // The baseline server gets the same two-worker runtime shape as a
    // default `postern serve` on this machine; the load generator a small one.
    let threads = match args.mode {
        Mode::NativeServer => std::thread::available_parallelism().map_or(2, |n| n.get()),
        _ => args.threads,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cvproxy-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match args.mode {
            Mode::SchemaErrors => cvproxy::modes::schema_errors(&args).await,
            Mode::Happy => cvproxy::modes::happy(&args).await,
            Mode::NativeServer => {
                let listener = tokio::net::TcpListener::bind(args.listen.expect("checked")).await?;
                cvproxy::native::serve(listener).await;
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cvproxy-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}
