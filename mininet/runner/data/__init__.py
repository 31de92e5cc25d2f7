"""The data sets a spec names: seeded generators (disk, spirals, bars, ...) or a user's CSV file.

Below the spec in the data path: nothing here imports ``mininet.runner.spec``; a data spec is read by its
fields, so that the spec checks can ask a data set's shape without a circle.
"""

from .csv_file import DataError
from .dataset import Dataset, data_shape, make_dataset

__all__ = ["DataError", "Dataset", "data_shape", "make_dataset"]
