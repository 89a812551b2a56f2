package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DataEnv names the environment variable that, when set, is the directory Path looks in
// instead of searching.
const DataEnv = "GOCVX_DATA"

// Path returns the path of the named file of the project's data directory,
// notebooks/data. It looks, in order:
//
//  1. in $GOCVX_DATA, when that is set (and only there);
//  2. in D/notebooks/data and then D/data for D the working directory and each of its
//     parents, so a notebook run from notebooks/, a test run from a package directory
//     and a command run from the repository root all find the shipped files;
//  3. in the notebooks/data directory of the source tree this package was built from,
//     for a gocvx binary run elsewhere on the machine that built it.
func Path(name string) (string, error) {
	if name == "" || filepath.IsAbs(name) {
		return "", fmt.Errorf("dataset: %q is not the name of a data file", name)
	}
	if dir := os.Getenv(DataEnv); dir != "" {
		p := filepath.Join(dir, name)
		if !isFile(p) {
			return "", fmt.Errorf("dataset: %s not found in $%s=%s", name, DataEnv, dir)
		}
		return p, nil
	}
	var tried []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			for _, p := range []string{filepath.Join(d, "notebooks", "data", name), filepath.Join(d, "data", name)} {
				if isFile(p) {
					return p, nil
				}
			}
			if filepath.Dir(d) == d {
				break
			}
		}
		tried = append(tried, "notebooks/data and data above "+wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		// file is <root>/solver/dataset/path.go in the source tree.
		p := filepath.Join(filepath.Dir(file), "..", "..", "notebooks", "data", name)
		if isFile(p) {
			return filepath.Clean(p), nil
		}
		tried = append(tried, filepath.Dir(filepath.Clean(p)))
	}
	if len(tried) == 0 {
		return "", errors.New("dataset: cannot locate the data directory; set $" + DataEnv)
	}
	return "", fmt.Errorf("dataset: %s not found (looked in %v; set $%s to the data directory)", name, tried, DataEnv)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// The file names of the shipped data (see notebooks/data/README.md).
const (
	MNISTImagesFile  = "mnist10k-images-idx3-ubyte.gz"
	MNISTLabelsFile  = "mnist10k-labels-idx1-ubyte.gz"
	BreastCancerFile = "breast_cancer.csv"
	DigitsFile       = "digits.csv.gz"
	IrisFile         = "iris.csv"
)

func loadNamed(name string, header bool) (*Set, error) {
	p, err := Path(name)
	if err != nil {
		return nil, err
	}
	return LoadCSV(p, header)
}

// MNIST returns the shipped 10 000-image MNIST sample: 784 pixels in [0, 1] per row,
// labels 0…9 (see ReadMNIST).
func MNIST() (*Set, error) {
	ip, err := Path(MNISTImagesFile)
	if err != nil {
		return nil, err
	}
	lp, err := Path(MNISTLabelsFile)
	if err != nil {
		return nil, err
	}
	return LoadMNIST(ip, lp)
}

// MNISTPair returns the binary task "digit pos (+1) against digit neg (−1)" from the
// MNIST sample, each image downsampled to side×side pixels by area averaging (see
// Downsample; side 28 keeps the original pixels). Pixels stay in [0, 1].
func MNISTPair(pos, neg, side int) (*Set, error) {
	if pos < 0 || pos > 9 || neg < 0 || neg > 9 {
		return nil, fmt.Errorf("dataset: MNIST digits are 0…9, got %d and %d", pos, neg)
	}
	all, err := MNIST()
	if err != nil {
		return nil, err
	}
	s, err := all.Pair(float64(pos), float64(neg))
	if err != nil {
		return nil, err
	}
	if side == 28 {
		return s, nil
	}
	X, err := Downsample(s.X, 28, side)
	if err != nil {
		return nil, err
	}
	return &Set{X: X, Y: s.Y}, nil
}

// MNIST2v8 returns the MNIST task of Bai, Gautam and Sojoudi: digit 2 (+1) against
// digit 8 (−1), 1 935 images downsampled to 10×10 (d = 100), pixels in [0, 1].
func MNIST2v8() (*Set, error) { return MNISTPair(2, 8, 10) }

// BreastCancer returns the Wisconsin diagnostic breast-cancer set (569 points, 30
// unscaled features) with labels ±1: +1 benign, −1 malignant (the file's 0/1 label y
// mapped to 2y − 1).
func BreastCancer() (*Set, error) {
	s, err := loadNamed(BreastCancerFile, true)
	if err != nil {
		return nil, err
	}
	return s.Pair(1, 0)
}

// Digits returns the 8×8 digits set: 1 797 images of 64 pixel counts 0…16, labels 0…9.
func Digits() (*Set, error) {
	s, err := loadNamed(DigitsFile, false)
	if err != nil {
		return nil, err
	}
	s.Classes = make([]string, 10)
	for c := range s.Classes {
		s.Classes[c] = fmt.Sprint(c)
	}
	return s, nil
}

// Iris returns the iris set: 150 points, 4 features, labels 0…2 (Classes setosa,
// versicolor, virginica).
func Iris() (*Set, error) { return loadNamed(IrisFile, true) }
