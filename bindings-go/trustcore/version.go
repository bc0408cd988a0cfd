package trustcore

/*
#include <trustcore.h>

// the header's version must be this package's: a compile-time check, so a module built against another
// libtrustcore fails to build instead of calling functions whose signatures may have changed
#if TRUSTCORE_VERSION_MAJOR != 0 || TRUSTCORE_VERSION_MINOR != 2 || TRUSTCORE_VERSION_PATCH != 0
#error "trustcore.h is not version 0.2.0, the version of this Go package (PackageVersion in version.go)"
#endif
*/
import "C"

// PackageVersion is this package's version: the header it compiles with must say the same (above), and
// so does every other trustcore package of the release (tools/check_version.py). Version() is the
// linked library's, the same for a library of this release.
const PackageVersion = "0.2.0"
