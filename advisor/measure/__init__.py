"""Measuring a loop: reading and running the script, finding the loop, recording its calls,
and the child processes the trials run in (the sweep itself is in advisor/sweep/)."""
