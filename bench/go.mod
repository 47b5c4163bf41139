module github.com/gotp-dev/gotp/bench

go 1.26

require github.com/gotp-dev/gotp v0.0.0-00010101000000-000000000000

require github.com/asynkron/protoactor-go v0.0.0-20260118094027-288962e52f3f // indirect

replace github.com/gotp-dev/gotp => ../
