package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "encoding/json"

// MaxFrame is the largest frame body, in bytes (1 MiB).
const MaxFrame = C.TC_MAX_FRAME

// EncodeFrame encodes one frame from object (a JSON object): a 4-byte big-endian length and the
// body as JCS.
func EncodeFrame(object json.RawMessage) ([]byte, error) {
	p, n := cTextBytes(object)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_frame_encode(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return takeBytes(out), nil
}

// DecodeFrame decodes exactly one frame into its object (JSON). ErrFrameInvalid for an oversize
// length, a cut frame, trailing bytes, or a body that is not a JSON object.
func DecodeFrame(frame []byte) (json.RawMessage, error) {
	p, n := cBytes(frame)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_frame_decode(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return takeBytes(out), nil
}

// FrameBodyLength is the body length a 4-byte frame header announces, refused (ErrFrameInvalid)
// over MaxFrame before any body is read: for callers that read their own sockets.
func FrameBodyLength(header []byte) (int, error) {
	p, n := cBytes(header)
	var length C.size_t
	var cerr *C.tc_error
	if err := toError(C.tc_frame_body_length(p, n, &length, &cerr), cerr); err != nil {
		return 0, err
	}
	return int(length), nil
}

// DecodeFrameBody parses a frame body; it must be a JSON object.
func DecodeFrameBody(body []byte) (json.RawMessage, error) {
	p, n := cBytes(body)
	var out *C.tc_bytes
	var cerr *C.tc_error
	if err := toError(C.tc_frame_decode_body(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return takeBytes(out), nil
}
