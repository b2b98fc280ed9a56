from pfdtrain.cli.app import main

main()
