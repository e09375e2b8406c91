//! Pure tests of `update`: a message in, the model and the effects out.
