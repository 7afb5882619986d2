"""Audio in and out: codecs, resampling, endpointing, recognition and synthesis.

Inside this package audio is mono PCM16 (numpy int16) at 16 kHz unless a
function says otherwise; 8 kHz μ-law exists only at the telephone edge.
"""

SAMPLE_RATE = 16000
PHONE_RATE = 8000
FRAME_MS = 20
