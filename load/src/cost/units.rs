//! DynamoDB capacity-unit arithmetic: what one item operation is billed, by item size.
//!
//! On-demand tables bill a read request unit per started 4 KB of item (strongly consistent; an
//! eventually consistent read is half of that), a write request unit per started 1 KB, and a
//! transactional read or write twice its plain figure. Sizes are counted in whole bytes.

/// One started 4 KB block is one read unit.
const READ_UNIT_BYTES: u64 = 4 * 1024;
/// One started 1 KB block is one write unit.
const WRITE_UNIT_BYTES: u64 = 1024;

/// How a read or write is issued; transactions cost double.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Transactional,
}

impl Mode {
    fn factor(self) -> u64 {
        match self {
            Mode::Plain => 1,
            Mode::Transactional => 2,
        }
    }
}

/// Started blocks of `unit` bytes in `bytes`; an empty item still costs one block.
fn blocks(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

/// Read units for a strongly consistent read of an item of `bytes` bytes, in half units so
/// eventually consistent reads (half price) stay exact integers.
pub fn read_half_units(bytes: u64, mode: Mode, consistent: bool) -> u64 {
    let full = blocks(bytes, READ_UNIT_BYTES) * mode.factor();
    if consistent || mode == Mode::Transactional {
        // Transactional reads are always strongly consistent.
        full * 2
    } else {
        full
    }
}

/// Write units for a put/update/delete of an item of `bytes` bytes.
pub fn write_units(bytes: u64, mode: Mode) -> u64 {
    blocks(bytes, WRITE_UNIT_BYTES) * mode.factor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_units_round_up_per_started_kilobyte() {
        assert_eq!(write_units(0, Mode::Plain), 1);
        assert_eq!(write_units(1, Mode::Plain), 1);
        assert_eq!(write_units(1024, Mode::Plain), 1);
        assert_eq!(write_units(1025, Mode::Plain), 2);
        assert_eq!(write_units(3500, Mode::Plain), 4);
    }

    #[test]
    fn transactional_writes_cost_double() {
        assert_eq!(write_units(1025, Mode::Transactional), 4);
        assert_eq!(write_units(300, Mode::Transactional), 2);
    }

    #[test]
    fn read_units_round_up_per_started_four_kilobytes() {
        // Counted in half units: 2 = one full read unit.
        assert_eq!(read_half_units(1, Mode::Plain, true), 2);
        assert_eq!(read_half_units(4096, Mode::Plain, true), 2);
        assert_eq!(read_half_units(4097, Mode::Plain, true), 4);
        assert_eq!(read_half_units(4097, Mode::Plain, false), 2);
        assert_eq!(read_half_units(100, Mode::Plain, false), 1);
    }

    #[test]
    fn transactional_reads_cost_double_and_are_consistent() {
        assert_eq!(read_half_units(4097, Mode::Transactional, false), 8);
        assert_eq!(read_half_units(10, Mode::Transactional, true), 4);
    }
}
