# An endless loop at the end of the train cell, after the instructor's own train. The notebook's
# first set-up (NumPy only, for Task 1) meets it and sets the cell aside; the set-ups of the PyTorch
# tests never run it again. Tasks 1 to 3 keep their points; train's test and the accuracy test
# (which trains with the student's train) name the cell.
# base: instructor
# faulty: {"train": "timeout"}
# scores: {"test_layer_shapes": 2, "test_digit_cnn": 2, "test_evaluate": 2, "test_train": 0, "test_accuracy": 0}

# %% train
while True:
    pass
