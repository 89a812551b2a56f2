package interp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestDbg(t *testing.T) {
	s, _ := New(Options{})
	defer s.Close()
	src, _ := os.ReadFile(os.Getenv("CELL"))
	for i, c := range strings.Split(string(src), "\n----\n") {
		rec := &recorder{}
		out := s.Execute(context.Background(), Cell{Code: c, Number: i + 1, Output: rec})
		fmt.Printf("[%d] out=%q err=%q\n", i+1, rec.stdout.String(), rec.stderr.String())
		if out.Value != nil {
			fmt.Println("value:", out.Value.Data["text/plain"])
		}
		if out.Error != nil {
			fmt.Println(strings.Join(out.Error.Traceback, "\n"))
		}
	}
}
