module github.com/gocvx/gocvx

go 1.26
