"""The course's grading tool and the hidden tests of its assignments.

Nothing in this package may reach the book or a student release: ``autograder release`` checks that.
The pieces, one idea per module:

- :mod:`autograder.checks`: what a hidden check is (plain-data calls plus a judge) and the helpers judges use;
- :mod:`autograder.probe`: runs the calls of a check on the student's functions and returns plain data;
- :mod:`autograder.kernel`: runs a cell's hidden checks inside the notebook kernel (what ``nbgrader autograde`` executes);
- :mod:`autograder.hidden`: the hidden checks of each assignment, keyed by the test cell's ``grade_id``;
- :mod:`autograder.course`: where the course directory is, and MyST-to-notebook conversion of the sources;
- :mod:`autograder.release`, :mod:`autograder.hygiene`, :mod:`autograder.solutions`, :mod:`autograder.verify`:
  releasing and proving an assignment;
- :mod:`autograder.intake` and :mod:`autograder.tamper`: a handed-in file turned into a safe grading plan;
- :mod:`autograder.sandbox` and :mod:`autograder.runner`: the student's process, under bubblewrap
  (:mod:`autograder.bwrap` lays the sandbox out);
- :mod:`autograder.forkserver` and :mod:`autograder.zygote`: student processes forked from a warm sandbox
  that imported the frameworks once; :mod:`autograder.pool`: a grading worker's supply of them;
- :mod:`autograder.bundle`, :mod:`autograder.grading`, :mod:`autograder.grade`: grading one submission and
  a batch (local pool or Dask);
- :mod:`autograder.gradebook`, :mod:`autograder.gradelog`, :mod:`autograder.export`, :mod:`autograder.feedback`:
  nbgrader's gradebook, the grading log, CSV exports and the students' pages;
- :mod:`autograder.cli`: the ``autograder`` command.
"""

__version__ = "0.1.0"
