"""`python -m syndicator` runs the same CLI as the `syndicator` script."""

from syndicator.cli import main

if __name__ == "__main__":
    main()
