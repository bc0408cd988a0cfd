module example.invalid/trustcore/bindings-go

go 1.24
