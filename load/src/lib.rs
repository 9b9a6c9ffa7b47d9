//! The load suites as a library, so that other binaries (the cost model) can
//! run a scenario and read its report.
pub mod scenarios;
