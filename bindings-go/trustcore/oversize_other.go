//go:build !unix

package trustcore

// mapZeros has no mapping to offer here: the middleware reads the body instead (up to the cap
// plus one byte), and core answers 413 all the same.
func mapZeros(int) []byte { return nil }

func unmapZeros([]byte) {}
