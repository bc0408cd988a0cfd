module example.invalid/trustcore/bindings-c/go

go 1.24
