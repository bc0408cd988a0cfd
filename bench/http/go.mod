module example.invalid/trustcore/bench/http

go 1.24

require example.invalid/trustcore/bindings-go v0.0.0

// the binding from this checkout, never a download: the bench measures the tree it sits in
replace example.invalid/trustcore/bindings-go => ../../bindings-go
