"""Tests of lstm_tuner.timeseries.csv_file: columns by name, time order, missing values, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lstm_tuner.errors import DataError
from lstm_tuner.timeseries.csv_file import read_csv


def write_csv(tmp_path: Path, text: str, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def arange_csv(tmp_path: Path, num_points: int, name: str = "x.csv") -> Path:
    """Columns t, y = t, f = 1000 + t: any leak across a split boundary shows in the values."""
    rows = "".join(f"{t},{t},{1000 + t}\n" for t in range(num_points))
    return write_csv(tmp_path, "t,y,f\n" + rows, name)


# --- read_csv ------------------------------------------------------------------------------------


def test_read_csv_orders_columns_target_first(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a, price ,b\n1,10,100\n2,20,200\n3,30,300\n")
    values, names = read_csv(path, "price", features=("b", "a"))
    assert names == ["price", "b", "a"]
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [[10, 100, 1], [20, 200, 2], [30, 300, 3]])
    values, names = read_csv(path, "price")
    assert names == ["price"] and values.shape == (3, 1)


def test_read_csv_skips_blank_lines_and_handles_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffy\n1\n\n2\n".encode())
    values, names = read_csv(path, "y")
    assert names == ["y"]
    np.testing.assert_array_equal(values[:, 0], [1, 2])


def test_read_csv_sorts_by_numeric_time_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n10,1\n2,2\n9.5,3\n-1,4\n")
    values, _ = read_csv(path, "y", time_column="t")
    np.testing.assert_array_equal(values[:, 0], [4, 2, 3, 1])


def test_read_csv_sorts_by_iso_time_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "when,y\n2024-01-02T00:00:00,1\n2024-01-01T12:00:00,2\n2023-12-31,3\n2024-01-01T13:00:00,4\n",
    )
    values, _ = read_csv(path, "y", time_column="when")
    np.testing.assert_array_equal(values[:, 0], [3, 2, 4, 1])


def test_read_csv_interpolates_in_time_order(tmp_path: Path) -> None:
    # In file order the gap sits between 30 and 10; in time order between 10 and 30.
    path = write_csv(tmp_path, "t,y\n3,30\n2,\n1,10\n")
    values, _ = read_csv(path, "y", time_column="t", missing="interpolate")
    np.testing.assert_array_equal(values[:, 0], [10, 20, 30])


def test_read_csv_rejects_duplicate_timestamps(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n1,1\n2,2\n1,3\n")
    with pytest.raises(
        DataError,
        match=re.escape("column 't' (data.time_column): duplicate timestamp '1' at rows 2 and 4"),
    ):
        read_csv(path, "y", time_column="t")
    path = write_csv(tmp_path, "t,y\n2024-01-01,1\n2024-01-01T00:00:00,2\n", "iso.csv")
    with pytest.raises(DataError, match="duplicate timestamp"):
        read_csv(path, "y", time_column="t")


def test_read_csv_rejects_bad_timestamps(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n2024-01-01,1\n2024-01-02,2\nyesterday,3\n")
    with pytest.raises(
        DataError, match=r"x\.csv: column 't' \(data\.time_column\): value 'yesterday' at row 4"
    ):
        read_csv(path, "y", time_column="t")
    path = write_csv(tmp_path, "t,y\n1,1\n,2\n", "gap.csv")
    with pytest.raises(DataError, match="missing timestamp '' at row 3"):
        read_csv(path, "y", time_column="t")


def test_read_csv_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "x.csv"
    with pytest.raises(DataError) as info:
        read_csv(path, "y")
    message = str(info.value)
    assert message.startswith(f"{path}: cannot read CSV file: [Errno 2]")
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "\n\n", " , \n"])
def test_read_csv_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match=r"x\.csv: empty file: no header row"):
        read_csv(write_csv(tmp_path, text), "y")


def test_read_csv_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.csv: no data rows after the header"):
        read_csv(write_csv(tmp_path, "y,z\n"), "y")


def test_read_csv_missing_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(
        DataError,
        match=re.escape("x.csv: column 'price' (data.target): not found; columns are ['a', 'b']"),
    ):
        read_csv(path, "price")
    with pytest.raises(DataError, match=re.escape("column 'c' (data.features): not found")):
        read_csv(path, "a", features=("b", "c"))
    with pytest.raises(DataError, match=re.escape("column 'when' (data.time_column): not found")):
        read_csv(path, "a", time_column="when")


def test_read_csv_rejects_a_column_used_twice(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(DataError, match=re.escape("column 'a' (data.features): used twice")):
        read_csv(path, "a", features=("a",))


def test_read_csv_non_numeric_value_names_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "price,f\n1,2\n3,4\nabc,5\n")
    with pytest.raises(
        DataError, match=re.escape("x.csv: column 'price': non-numeric value 'abc' at row 4")
    ):
        read_csv(path, "price", features=("f",))
    path = write_csv(tmp_path, "price\n1\ninf\n", "inf.csv")
    with pytest.raises(
        DataError, match=re.escape("column 'price': non-finite value 'inf' at row 3")
    ):
        read_csv(path, "price")


def test_read_csv_ragged_row(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.csv: row 3: has 1 fields, the header has 2"):
        read_csv(write_csv(tmp_path, "a,b\n1,2\n3\n"), "a")


MISSING_TEXT = (
    "price,f\n1,10\n2,20\n3,30\n,40\n5,50\n6,60\n7,70\nNA,80\n9,90\n10,100\nnan,110\n12,\n"
)


def test_read_csv_missing_values_error_policy(tmp_path: Path) -> None:
    path = write_csv(tmp_path, MISSING_TEXT)
    with pytest.raises(DataError) as info:
        read_csv(path, "price", features=("f",))
    assert str(info.value) == (
        f"{path}: column 'price': 3 missing values (first at rows 5, 9, 12); "
        "set data.missing to interpolate or drop"
    )
    with pytest.raises(DataError, match=re.escape("column 'y': 1 missing value (at row 3);")):
        read_csv(write_csv(tmp_path, "y\n1\nN/A\n3\n", "one.csv"), "y")


def test_read_csv_missing_values_interpolate_policy(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "y,f\n,1\n2,\n,3\n6,4\n,\n")
    values, _ = read_csv(path, "y", features=("f",), missing="interpolate")
    # Interior: linear in row order; edges: the nearest valid value.
    np.testing.assert_array_equal(values[:, 0], [2, 2, 4, 6, 6])
    np.testing.assert_array_equal(values[:, 1], [1, 2, 3, 4, 4])


def test_read_csv_missing_values_drop_policy(tmp_path: Path) -> None:
    values, _ = read_csv(
        write_csv(tmp_path, MISSING_TEXT), "price", features=("f",), missing="drop"
    )
    np.testing.assert_array_equal(values[:, 0], [1, 2, 3, 5, 6, 7, 9, 10])
    np.testing.assert_array_equal(values[:, 1], [10, 20, 30, 50, 60, 70, 90, 100])
    # Only used columns count: the missing value of f does not drop its row when f is unused.
    values, _ = read_csv(write_csv(tmp_path, "y,f\n1,\n2,3\n", "d.csv"), "y", missing="drop")
    np.testing.assert_array_equal(values[:, 0], [1, 2])
    with pytest.raises(DataError, match="no rows left after dropping"):
        read_csv(
            write_csv(tmp_path, "y,f\n1,\n,3\n", "e.csv"), "y", features=("f",), missing="drop"
        )


@pytest.mark.parametrize("missing", ["error", "interpolate", "drop"])
def test_read_csv_all_missing_column(tmp_path: Path, missing: str) -> None:
    path = write_csv(tmp_path, "y,f\n1,\n2,NA\n3,nan\n")
    with pytest.raises(DataError, match=re.escape("x.csv: column 'f': all 3 values are missing")):
        read_csv(path, "y", features=("f",), missing=missing)


def test_read_csv_rejects_unknown_missing_policy(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match="data.missing must be one of 'error', 'interpolate', 'drop', got 'zero'"
    ):
        read_csv(write_csv(tmp_path, "y\n1\n"), "y", missing="zero")


# --- files as people have them: delimiters, encodings, number formats --------------------------

PLAIN = "t,load,temp\n0,10.5,1\n1,11.25,2\n2,1234.5,3\n"


@pytest.mark.parametrize(
    "name, data, options, described",
    [
        ("semicolon", PLAIN.replace(",", ";").encode(), {}, "delimiter ';'"),
        ("tab", PLAIN.replace(",", "\t").encode(), {}, "delimiter '\\t'"),
        ("pipe", PLAIN.replace(",", "|").encode(), {}, "delimiter '|'"),
        ("given delimiter", PLAIN.replace(",", ";").encode(), {"delimiter": ";"}, "delimiter ';'"),
        ("utf-8 bom", PLAIN.encode("utf-8-sig"), {}, ""),
        ("utf-16 le", PLAIN.encode("utf-16"), {}, "UTF-16"),
        ("utf-16 be", b"\xfe\xff" + PLAIN.encode("utf-16-be"), {}, "UTF-16"),
        (
            "decimal comma",
            PLAIN.replace(",", ";").replace(".", ",").encode(),
            {"decimal": ","},
            "delimiter ';', decimal ','",
        ),
        (
            "thousands",
            b't,load,temp\n0,10.5,1\n1,11.25,2\n2,"1,234.5",3\n',
            {"thousands": ","},
            "thousands ','",
        ),
        (
            "european",
            b"t;load;temp\n0;10,5;1\n1;11,25;2\n2;1.234,5;3\n",
            {"decimal": ",", "thousands": "."},
            "delimiter ';', decimal ',', thousands '.'",
        ),
    ],
)
def test_files_as_people_have_them_read_as_the_plain_file(tmp_path, name, data, options, described):
    from lstm_tuner.timeseries.csv_file import read_series

    path = tmp_path / "other.csv"
    path.write_bytes(data)
    other = read_series(path, "load", ["temp"], "t", **options)
    # PLAIN's numbers, written out here rather than read by the parser under test
    np.testing.assert_array_equal(other.values, [[10.5, 1.0], [11.25, 2.0], [1234.5, 3.0]])
    assert other.times == ["0", "1", "2"]
    assert other.format.describe() == (f" ({described})" if described else "")


def test_numbers_with_separators_are_refused_unless_the_format_says_so(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b't,load\n0,"1,234.5"\n')
    with pytest.raises(DataError, match="non-numeric value '1,234.5' at row 2"):
        read_csv(path, "load")
    path.write_bytes(b"t;load\n0;2,5\n")
    with pytest.raises(DataError, match="non-numeric value '2,5' at row 2"):
        read_csv(path, "load")


def test_an_encoding_without_a_bom_is_refused_with_its_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("t,välue\n0,1\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        read_csv(path, "välue")
    assert str(info.value) == (
        f"{path}: cannot read CSV file: not UTF-8 text and no UTF-8/UTF-16 byte-order mark "
        "(byte 0xE4 at offset 3); save it as UTF-8"
    )
