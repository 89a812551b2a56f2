package dataset_test

import (
	"fmt"

	"github.com/gocvx/gocvx/solver/dataset"
)

func ExampleMNIST2v8() {
	ds, err := dataset.MNIST2v8()
	if err != nil {
		fmt.Println(err)
		return
	}
	train, test, err := dataset.Split(ds, 0.2, true, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Len(), "images of", ds.Features(), "pixels:", ds.Counts())
	fmt.Println("train", train.Len(), "test", test.Len(), test.Counts())
	// Output:
	// 1935 images of 100 pixels: map[-1:944 1:991]
	// train 1548 test 387 map[-1:189 1:198]
}

func ExampleSpirals() {
	ds, _ := dataset.Spirals(200, 0.02, 1)
	X := dataset.AddBias(ds.X)
	n, d := X.Dims()
	fmt.Println(n, d, ds.Counts())
	// Output:
	// 200 3 map[-1:100 1:100]
}
