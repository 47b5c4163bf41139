module github.com/gotp-dev/gotp

go 1.26
