//! `vspc-load`: load generator for Postern's vSPC workflow.
//! See `postern_bench::vspc` for what each mode does; `--help` for options.

use std::process::ExitCode;

use postern_bench::vspc::{self, args::Args};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{}", vspc::args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("vspc-load: {e:#} (see --help)");
            return ExitCode::from(2);
        }
    };
    // A small runtime by default: on a shared machine the server under test
    // should get the CPU, not the load generator.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vspc-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "vspc-load {} against {} (vm '{}', uri '{}')",
        args.mode.name(),
        args.addr,
        args.vm,
        args.uri
    );
    let outcome = runtime.block_on(vspc::run(&args));
    // Do not wait for anything still pending (e.g. after the overall timeout).
    runtime.shutdown_background();
    match outcome {
        Ok(report) => {
            report.print();
            if report.failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("vspc-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}
