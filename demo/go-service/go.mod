module example.invalid/trustcore/demo/go-service

go 1.24

require go.trustcore.dev/trustcore v0.0.0

// the binding from this checkout, never a download: the demo shows the tree it sits in
replace go.trustcore.dev/trustcore => ../../bindings-go/trustcore
