package trustcore

import "testing"

// The header's version is checked when the package compiles (version.go); the library linked must be of
// the same release too.
func TestLinkedLibraryIsThePackagesVersion(t *testing.T) {
	if Version() != PackageVersion {
		t.Fatalf("linked libtrustcore %s, package %s", Version(), PackageVersion)
	}
}
