//! Frames: decode_frame on any bytes, and the server's reader (`read_next_frame`) on the same bytes
//! as a stream. Either a frame or FRAME_INVALID; never a panic, never an allocation beyond the input.
#![no_main]

use std::io::{self, Read};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use trustcore_core::SetReadTimeout;
use trustcore_core::{decode_frame, encode_frame, read_next_frame, ErrorCode, NextFrame};

struct Stream<'a>(&'a [u8]);

impl Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl SetReadTimeout for Stream<'_> {
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    match decode_frame(data) {
        Ok(object) => {
            // what decodes re-encodes, and JCS is a fixed point: encoding the re-decoded frame gives
            // the same bytes (numbers may change spelling once, 4e0 → 4, never again)
            let Ok(again) = encode_frame(&object) else { return }; // JCS refuses some numbers (NaN cannot occur)
            let decoded = decode_frame(&again).expect("a frame we encoded decodes");
            assert_eq!(encode_frame(&decoded).expect("and encodes again"), again);
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::FrameInvalid),
    }
    let mut stream = Stream(data);
    let second = Duration::from_secs(1);
    loop {
        match read_next_frame(&mut stream, second, second) {
            Ok(NextFrame::Frame(_)) => continue,
            Ok(NextFrame::Closed | NextFrame::Idle) => break,
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::FrameInvalid);
                break;
            }
        }
    }
});
