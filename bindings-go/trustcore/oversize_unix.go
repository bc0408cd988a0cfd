//go:build unix

package trustcore

import "syscall"

// mapZeros is n bytes of zeros in a private, read-only anonymous mapping: the kernel commits no
// memory for it and no page is touched unless read (core only counts the bytes). nil when the
// mapping is refused.
func mapZeros(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	return b
}

func unmapZeros(b []byte) { _ = syscall.Munmap(b) }
