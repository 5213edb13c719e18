// The PulpRPM module; its content arrives with the issues that build it.
