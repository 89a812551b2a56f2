// Package dataset loads and generates the data sets of the notebooks and tests: readers
// for the IDX (MNIST), CSV and LIBSVM formats, seeded synthetic 2-D problems (spirals,
// XOR, circles, Gaussian blobs), standardization, a bias column, seeded train/test
// splits and label helpers that turn class labels into the ±1 labels the solver's
// classification losses take.
//
// A data set is a Set: n points as the rows of an n×d matrix X and their labels Y.
// Loaders that read files accept gzip-compressed input transparently. Path finds the
// repository's notebooks/data directory, so a notebook run from notebooks/ (or a test
// run from any package directory) finds the shipped files:
//
//	ds, err := dataset.MNIST2v8()            // 1 935 images, 10×10 pixels, labels ±1
//	train, test, err := dataset.Split(ds, 0.2, true, 1)
//	prob := &solver.Problem{X: dataset.AddBias(train.X), Y: train.Y, Loss: solver.Hinge, Beta: 1e-3}
//
// Every random choice takes a seed; the same seed gives the same bits.
package dataset
