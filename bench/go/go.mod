module example.invalid/trustcore/bench/go

go 1.24

require go.trustcore.dev/trustcore v0.0.0

// the binding from this checkout, never a download: the bench measures the tree it sits in
replace go.trustcore.dev/trustcore => ../../bindings-go/trustcore
