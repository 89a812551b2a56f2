package main

func writeDocs(file string, pkgs []string) error { return nil }
