"""nbgrader configuration of the course (the course directory is this folder).

The ``autograder`` command (see autograder/README.md) wraps the nbgrader apps that use it; formgrader and the
JupyterLab extensions read it too when JupyterLab is started from this folder.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.course_id = "cnn-rnn-course"
# The MyST sources (<id>.md) are converted to <id>.ipynb by the autograder; only the notebooks and data
# files go to students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md", ".*"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Training cells take tens of seconds on a laptop CPU; nbgrader's default of 30 s per cell is too short.
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.interrupt_on_timeout = True
