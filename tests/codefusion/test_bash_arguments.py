import pytest

from codefusion.tasks.bash_arguments import classify, fill_arguments, request_arguments


def kinds(request):
    return [(a.kind, a.text) for a in request_arguments(request)]


def test_request_arguments_are_typed_in_order():
    assert kinds("find all .log files in /var larger than 10MB") == [("glob", "*.log"), ("path", "/var"), ("size", "10M")]
    assert kinds("count lines in data.csv and 'notes.txt'") == [("file", "data.csv"), ("file", "notes.txt")]
    assert kinds('delete files older than 7 days in "~/tmp"') == [("number", "7"), ("path", "~/tmp")]
    # "files/directories" is prose, not a path
    assert kinds("list files/directories under current directory") == []


@pytest.mark.parametrize("word, kind", [("+5M", "size"), ("-100k", "size"), ("10", "number"), ("'*.txt'", "string"),
                                        ("*.txt", "glob"), ("/tmp", "path"), (".", "path"), ("a.csv", "file"),
                                        ("nobody", "string")])
def test_classify(word, kind):
    assert classify(word) == kind


@pytest.mark.parametrize("code, request_text, written_for, expected", [
    ("find . -name '*.txt' -size +5M", "find all .log files in /var larger than 10MB", None,
     "find /var -name '*.log' -size +10M"),
    ("wc -l a.csv", "count lines in data.csv", None, "wc -l data.csv"),
    ("find /home/bozo/projects -mtime -1", 'files under "/srv/www" modified in the last 3 days', None,
     "find /srv/www -mtime -3"),
    # a plain word is swapped only where it was a quoted literal of the request the code answers
    ("sudo chown nobody /var/www", 'Change the owner of "/srv" to "alice"', 'Change the owner of "/var/www" to "nobody"',
     "sudo chown alice /srv"),
    ("sudo chown nobody /var/www", 'Change the owner of "/srv" to "alice"', None, "sudo chown nobody /srv"),
    # nothing in the request: unchanged; an unparsable command: unchanged
    ("ls -la", "list everything", None, "ls -la"),
    ("echo 'unterminated", "print 5", None, "echo 'unterminated"),
    # quoting follows the command: a bare glob stays bare (the shell expands it for cat), text with spaces is quoted
    ("find . -name *.pdf | xargs tar czvf all.tar", "archive all png files", None,
     "find . -name *.png | xargs tar czvf all.tar"),
    ("cat *.txt | wc -l", "count lines in every csv", None, "cat *.csv | wc -l"),
    ("grep -r foo .", 'search "my notes" for foo', 'search "foo" in .', "grep -r 'my notes' ."),
    # kinds must agree: a file name is not replaced by a glob
    ("find . -name foo.txt", "find *.py files", None, "find . -name foo.txt"),
])
def test_fill_arguments(code, request_text, written_for, expected):
    assert fill_arguments(code, request_text, written_for) == expected
