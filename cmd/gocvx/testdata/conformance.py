"""The Jupyter project's conformance suite (jupyter_kernel_test) run against the
installed gocvx kernelspec, with every attribute of KernelTests set.

Run with JUPYTER_PATH (or JUPYTER_DATA_DIR) pointing at the folder that holds
kernels/gocvx:  /usr/bin/python3 -m unittest -v conformance
"""

import unittest

import jupyter_kernel_test


class GocvxKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "gocvx"
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'import "fmt"\nfmt.Println("hello, world")'

    code_stderr = 'import (\n\t"fmt"\n\t"os"\n)\nfmt.Fprintln(os.Stderr, "to stderr")'

    # Matches replace the text from cursor_start: a package member completes alone.
    completion_samples = [
        {"text": "fmt.Printl", "matches": {"Println"}},
        {"text": "fmt.Sprin", "matches": {"Sprint", "Sprintf", "Sprintln"}},
        # The cursor counts code points: a character outside the BMP comes first.
        {"text": 's := "\U0001F600"\nfmt.Printl', "matches": {"Println"}},
        {"text": "fmt.Zzz", "matches": set()},
    ]

    complete_code_samples = [
        "x := 1",
        'fmt.Println("hi")',
        "func f() int { return 1 }",
        "for i := 0; i < 3; i++ {\n}",
    ]
    incomplete_code_samples = [
        "func f() {",
        "for i := 0; i < 3; i++ {",
        "x := []int{1,",
    ]
    invalid_code_samples = [
        "x := )",
        "func 1() {}",
        "fmt.Println(1))",
    ]

    code_page_something = "fmt.Println?"

    code_generate_error = 'panic("boom")'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "6 * 7", "result": "42"},
        {"code": "y := 20\ny + 1", "result": "21"},
    ]

    code_display_data = [
        {
            "code": 'import "github.com/gocvx/gocvx/display"\ndisplay.HTML("<b>hello</b>")',
            "mime": "text/html",
        },
        {
            "code": "import (\n"
            '\t"bytes"\n\t"image"\n\t"image/png"\n\t"github.com/gocvx/gocvx/display"\n)\n'
            "var buf bytes.Buffer\n"
            "png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4)))\n"
            "display.Show(display.AsPNG(buf.Bytes()))",
            "mime": "image/png",
        },
    ]

    code_history_pattern = "6 ? 7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "fmt.Println"

    code_clear_output = (
        'import (\n\t"fmt"\n\t"github.com/gocvx/gocvx/display"\n)\n'
        'fmt.Println("soon gone")\ndisplay.Clear(false)'
    )


if __name__ == "__main__":
    unittest.main()
