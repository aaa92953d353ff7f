//! VMware's telnet extension for virtual serial port concentrators
//! (option 0xE8): sub-command codes and payload formats (spec 2.2, 4.3).

/// The telnet option number of the extension.
pub const VMWARE_EXT: u8 = 0xE8;

pub const KNOWN_SUBOPTIONS_1: u8 = 0x00;
pub const KNOWN_SUBOPTIONS_2: u8 = 0x01;
pub const UNKNOWN_SUBOPTION_RCVD_1: u8 = 0x02;
pub const UNKNOWN_SUBOPTION_RCVD_2: u8 = 0x03;
pub const VMOTION_BEGIN: u8 = 0x28;
pub const VMOTION_GOAHEAD: u8 = 0x29;
pub const VMOTION_NOTNOW: u8 = 0x2B;
pub const VMOTION_PEER: u8 = 0x2C;
pub const VMOTION_PEER_OK: u8 = 0x2D;
pub const VMOTION_COMPLETE: u8 = 0x2E;
pub const VMOTION_ABORT: u8 = 0x30;
pub const DO_PROXY: u8 = 0x46;
pub const WILL_PROXY: u8 = 0x47;
pub const WONT_PROXY: u8 = 0x49;
pub const VM_VC_UUID: u8 = 0x50;
pub const GET_VM_VC_UUID: u8 = 0x51;
pub const VM_NAME: u8 = 0x52;
pub const GET_VM_NAME: u8 = 0x53;
pub const VM_BIOS_UUID: u8 = 0x54;
pub const GET_VM_BIOS_UUID: u8 = 0x55;
pub const VM_LOCATION_UUID: u8 = 0x56;

/// The list the seed sends in KNOWN-SUBOPTIONS-2, kept byte for byte for
/// compatibility even though it omits codes Postern handles (spec 2.2).
pub const KNOWN_SUBOPTIONS_2_LIST: [u8; 18] = [
    0x00, 0x01, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x50, 0x51, 0x52, 0x54, 0x55, 0x53, 0x46,
    0x47, 0x49,
];

/// A vSphere UUID as ESXi sends it (`42 1b 41 87 bc b4 3d c1-e7 d7 …`),
/// normalised to `421b4187-bcb4-3dc1-e7d7-c9496d3fdca9`. `None` if malformed.
pub fn parse_uuid(payload: &[u8]) -> Option<String> {
    let digits: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| *b != b' ' && *b != b'-')
        .collect();
    if digits.len() != 32 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let hex = String::from_utf8(digits).ok()?.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}
