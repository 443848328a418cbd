"""Voice tests over an agent's own Media Streams WebSocket: callboard plays Twilio's part.

``protocol`` speaks Twilio's Media Streams messages, ``mulaw`` and ``resample`` handle 8 kHz G.711 audio,
``pacer`` sends a 20 ms frame every 20 ms, ``playback`` plays the agent's audio back at real time (``clear``
and ``mark`` as Twilio does), ``vad`` hears the agent, ``tts``/``stt`` are the pluggable speech providers,
``session`` runs one socket and ``timeline`` turns what was heard into metrics. Nothing here knows of the
engine or the store.
"""
