package trustcore

/*
#include <trustcore.h>

// the header's version must be this package's: a compile-time check, so a module built against another
// libtrustcore fails to build instead of calling functions whose signatures may have changed
#if TRUSTCORE_VERSION_MAJOR != 0 || TRUSTCORE_VERSION_MINOR != 2 || TRUSTCORE_VERSION_PATCH != 0
#error "trustcore.h is not version 0.2.0, the version of this Go package (Version in version.go)"
#endif
*/
import "C"

// Version is this package's version, the same as the C library's it is built with (checked when it
// compiles) and every other trustcore package's of the release (tools/check_version.py).
const Version = "0.2.0"
