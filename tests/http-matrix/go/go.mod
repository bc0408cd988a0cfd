module example.invalid/trustcore/tests/http-matrix/go

go 1.24

require example.invalid/trustcore/bindings-go v0.0.0

// the binding from this checkout, never a download: the matrix tests the tree it sits in
replace example.invalid/trustcore/bindings-go => ../../../bindings-go
