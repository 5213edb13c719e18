// The PulpAPI module; its content arrives with the issues that build it.
