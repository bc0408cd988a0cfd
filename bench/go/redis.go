package main

import (
	"strconv"

	"go.trustcore.dev/trustcore/testenv"
)

// redisServer is a redis-server on a free loopback port, in memory only, for the Verifier's Redis
// path, from `testenv redis` (the binding's test helper, bindings-go/trustcore/testenv); stop kills it.
type redisServer struct {
	env  *testenv.Env
	port int
}

func startRedis() (*redisServer, error) {
	var ready struct{ Port int }
	env, err := testenv.Start(&ready, "redis")
	if err != nil {
		return nil, err
	}
	return &redisServer{env: env, port: ready.Port}, nil
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/" }

func (r *redisServer) stop() { r.env.Close() }
