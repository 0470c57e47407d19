//! `wrk`: see [`wrk_host::cli`].

fn main() -> std::process::ExitCode {
    wrk_host::cli::main()
}
